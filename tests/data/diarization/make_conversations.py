#!/usr/bin/env python3
"""Generate the synthetic Dutch conversations for the diarization benchmark; output is committed.

Needs Debian's espeak-ng with the mbrola voices mb-nl2 (male) and mb-nl3 (female)
(contrib/non-free: `apt-get install mbrola-nl2 mbrola-nl3`; CI never runs this), sox and ffmpeg.
(mb-nl1 is not used: with espeak-ng's Dutch phonemes most of its diphones are missing.)
Run from the repository root:

    .venv/bin/python tests/data/diarization/make_conversations.py [NAME...]

With names, only those conversations are (re)written and their entries in reference.json
replaced; the other files stay as committed.

Writes tests/data/diarization/<set>/<name>.opus and <set>/reference.json for each set (dev, eval,
eval2). Each speaker is one voice with its own pitch and speed (espeak -p/-s), fixed within a file.
Reference turns are the synthesised speech of one utterance with its leading and trailing silence
trimmed; the pauses between turns are chosen here (0.1 to 1.6 s, seeded), and a speaker who pauses
long within a turn gets two turns. A faint noise floor stands in for a room. `dev/` is for tuning,
`eval/` is only for the benchmark: no conversation text is shared between them. `eval2/` is a fresh
evaluation set, written after the first evaluation set had been inspected and never used for
tuning: new text (no sentence from dev or eval, short replies such as "Ja." aside) and new
pitch/speed pairs.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
RATE = 16000
OPUS_BITRATE = "16k"

# (voice, pitch, speed): one synthetic "person". mb-nl2 is male, mb-nl3 female (MBROLA);
# nl+m3, nl+klatt (male) and nl+f3 (female) are espeak-ng's own formant voices. Pitch alone
# does not make another person: the voice encoder hears mb-nl2 at -p 30 and -p 72 as one voice.
Voice = tuple[str, int, int]

# A conversation: voices by speaker letter, then (speaker, text) lines. A line "~" is a long
# pause within the previous speaker's turn (they go on after 1.2-1.6 s: a new reference turn).
CONVERSATIONS: dict[str, dict[str, dict]] = {
    "dev": {
        "dev-twee-buurthuis": {
            "voices": {"A": ("mb-nl3", 55, 150), "B": ("mb-nl2", 45, 140)},
            "lines": [
                ("A", "Goedemorgen, en welkom. Vandaag praten we over het buurthuis in de Schilderswijk."),
                ("B", "Dank je. Ja, het buurthuis is eigenlijk de huiskamer van de wijk geworden."),
                ("A", "Hoe is dat zo gekomen?"),
                ("B", "Een paar bewoners begonnen met een koffieochtend op dinsdag. Eerst kwamen er vijf mensen, nu zijn het er veertig."),
                ("A", "Veertig!"),
                ("B", "Ja."),
                ("A", "En wie zet de koffie?"),
                ("B", "Dat wisselt. Er is een rooster, en iedereen die wil kan meedoen."),
                ("~", ""),
                ("B", "Soms staat de wethouder ook achter de bar."),
                ("A", "Mooi. Tot slot: wat is jouw tip voor andere wijken?"),
                ("B", "Begin klein, en geef het de tijd."),
            ],
        },
        "dev-twee-moestuin": {
            "voices": {"A": ("nl+m3", 50, 155), "B": ("mb-nl3", 62, 145)},
            "lines": [
                ("A", "Je luistert naar een aflevering over de moestuin achter de flat."),
                ("B", "Die tuin lag er vroeger heel verwaarloosd bij."),
                ("A", "Wat deden jullie eraan?"),
                ("B", "We hebben de gemeente gevraagd of we het stuk grond mochten gebruiken. Dat mocht, als we het zelf onderhielden."),
                ("A", "Precies."),
                ("B", "Nu staan er tomaten, bonen en pompoenen, en in de zomer eten we samen."),
                ("A", "Komen er ook jongeren?"),
                ("B", "Steeds meer. De school komt elke week met een klas."),
                ("A", "Klopt het dat er ook een bijenkast staat?"),
                ("B", "Ja, sinds vorig jaar. De honing verkopen we op de markt."),
                ("A", "Dank je wel voor dit gesprek."),
            ],
        },
        "dev-twee-mannen": {
            "voices": {"A": ("mb-nl2", 40, 150), "B": ("nl+m3", 58, 140)},
            "lines": [
                ("A", "Vandaag zit ik aan tafel met de voorzitter van de bewonersvereniging."),
                ("B", "Goedemiddag."),
                ("A", "Wat doet de vereniging precies?"),
                ("B", "We praten mee over de plannen van de woningcorporatie, en we organiseren activiteiten voor de straat."),
                ("A", "Zoals?"),
                ("B", "Een straatfeest, een schoonmaakdag, en een cursus voor mensen die met de computer willen leren werken."),
                ("A", "Wordt daar gebruik van gemaakt?"),
                ("B", "Zeker. De cursus zit altijd vol."),
                ("~", ""),
                ("B", "We hebben zelfs een wachtlijst."),
                ("A", "Wat is lastig?"),
                ("B", "Vrijwilligers vinden die lang blijven. Dat is het moeilijkste."),
            ],
        },
        "dev-drie-panel": {
            "voices": {"A": ("mb-nl3", 50, 150), "B": ("mb-nl2", 50, 145), "C": ("nl+m3", 45, 155)},
            "lines": [
                ("A", "Welkom bij dit gesprek met twee gasten. Ik stel ze even voor."),
                ("B", "Hallo, ik ben opbouwwerker in Zwolle."),
                ("C", "En ik ben buurtsportcoach in dezelfde wijk."),
                ("A", "Hoe werken jullie samen?"),
                ("B", "Ik ken de bewoners en hun vragen, en hij kent de sportclubs."),
                ("C", "Precies. Samen kunnen we mensen sneller op de goede plek krijgen."),
                ("A", "Kun je een voorbeeld geven?"),
                ("C", "Een jongen die veel op straat hing, traint nu twee keer per week bij de voetbalclub."),
                ("B", "En zijn moeder doet inmiddels mee met de kookgroep."),
                ("A", "Mooi."),
                ("B", "Ja."),
                ("A", "Wat hebben jullie nodig om dit vol te houden?"),
                ("C", "Vooral tijd, en een gemeente die langer dan een jaar durft te investeren."),
            ],
        },
        "dev-drie-bibliotheek": {
            "voices": {"A": ("mb-nl2", 55, 140), "B": ("mb-nl3", 45, 155), "C": ("nl+f3", 50, 145)},
            "lines": [
                ("A", "We zijn vandaag in de oude bibliotheek, die nu een ontmoetingsplek is."),
                ("B", "Toen de bibliotheek dicht ging, wilden we het gebouw niet kwijt."),
                ("C", "Dus hebben we een stichting opgericht en het gebouw gehuurd."),
                ("A", "Was dat spannend?"),
                ("B", "Heel spannend. We wisten niet of we de huur konden betalen."),
                ("C", "Maar er kwamen meteen aanvragen van clubs en verenigingen."),
                ("A", "Wie komen er nu?"),
                ("C", "Een schaakclub, een koor, taalmaatjes, en op vrijdag een repair café."),
                ("B", "Klopt."),
                ("A", "En de boeken?"),
                ("B", "Er staat nog een kast met boeken die je mag lenen zonder pasje."),
            ],
        },
        "dev-een-monoloog": {
            "voices": {"A": ("nl+m3", 52, 150)},
            "lines": [
                ("A", "In deze korte aflevering vertel ik over de wijkraad in Enschede."),
                ("A", "De wijkraad bestaat uit bewoners die elke maand vergaderen."),
                ("~", ""),
                ("A", "Ze krijgen een klein budget van de gemeente, en bewoners kunnen een plan indienen."),
                ("A", "Zo is er een speeltuin opgeknapt, en is er een bankje bij de vijver gekomen."),
                ("A", "Het lijkt klein, maar het maakt de buurt een beetje mooier."),
            ],
        },
        "dev-een-verteller": {
            "voices": {"A": ("mb-nl2", 46, 140)},
            "lines": [
                ("A", "Welkom bij deze aflevering. Ik neem je mee naar een hofje in Leiden."),
                ("A", "Achter een smalle poort wonen twintig mensen rond een binnentuin."),
                ("~", ""),
                ("A", "Ze delen een grasveld, een fietsenhok en een grote tafel onder de linde."),
                ("A", "Wie jarig is, trakteert aan die tafel. Zo leer je elkaar vanzelf kennen."),
                ("A", "Nieuwe bewoners krijgen een rondleiding en een sleutel van de poort."),
            ],
        },
        "dev-een-vrouw": {
            "voices": {"A": ("nl+f3", 55, 150)},
            "lines": [
                ("A", "Dit is een korte aflevering over een ruilkast op het schoolplein."),
                ("A", "Ouders zetten er kleding neer die hun kinderen niet meer passen."),
                ("A", "Andere ouders nemen mee wat ze kunnen gebruiken."),
                ("~", ""),
                ("A", "Er hoeft niemand iets te vragen, en dat maakt het makkelijk."),
                ("A", "Bij de kast ontstaan ook gesprekken tussen ouders die elkaar nog niet kenden."),
            ],
        },
        "dev-drie-vrouwen-en-man": {
            "voices": {"A": ("nl+f3", 45, 145), "B": ("mb-nl3", 55, 150), "C": ("nl+klatt", 50, 150)},
            "lines": [
                ("A", "Aan tafel zitten vandaag twee gasten uit Groningen."),
                ("B", "Goedemorgen."),
                ("C", "Hallo allemaal."),
                ("A", "Jullie begonnen samen een wijkkrant. Waarom?"),
                ("B", "Veel mensen in onze wijk lezen geen nieuws op internet."),
                ("C", "En een krant op papier ligt dagen op tafel. Iedereen in huis leest hem."),
                ("A", "Wie schrijft de stukken?"),
                ("B", "Bewoners zelf. Over de bakker, de voetbalclub, en over buren met een bijzonder verhaal."),
                ("C", "Klopt."),
                ("A", "Hoe vaak verschijnt de krant?"),
                ("C", "Vier keer per jaar, en we bezorgen hem zelf, huis aan huis."),
                ("A", "Dank jullie wel."),
            ],
        },
        "dev-twee-fietsen": {
            "voices": {"A": ("mb-nl2", 56, 145), "B": ("nl+klatt", 42, 140)},
            "lines": [
                ("A", "Vandaag ben ik te gast in een fietsenwerkplaats onder een viaduct."),
                ("B", "Welkom. Let niet op de rommel, het is hier altijd druk."),
                ("A", "Wie komen hier hun fiets maken?"),
                ("B", "Statushouders, scholieren, en mensen die geen geld hebben voor een fietsenmaker. Ze leren het zelf te doen."),
                ("A", "Dus je repareert het niet voor ze?"),
                ("B", "Nee. Ik leg uit hoe het moet, en zij pakken de sleutel."),
                ("A", "Slim."),
                ("B", "Zeker."),
                ("A", "Waar komen de onderdelen vandaan?"),
                ("B", "Van oude fietsen die mensen bij ons achterlaten."),
                ("~", ""),
                ("B", "Van drie kapotte fietsen maken we er vaak één die weer rijdt."),
                ("A", "Bedankt voor de rondleiding."),
            ],
        },
        "dev-twee-markt": {
            "voices": {"A": ("nl+klatt", 50, 145), "B": ("mb-nl2", 46, 150)},
            "lines": [
                ("A", "Deze week staan we op de zaterdagmarkt in Tilburg."),
                ("B", "Goedemorgen. Wil je een appel proeven?"),
                ("A", "Graag. Hoe lang sta je hier al?"),
                ("B", "Mijn vader begon deze kraam, en ik sta er nu zelf al vijftien jaar."),
                ("A", "Kennen de klanten elkaar?"),
                ("B", "Veel wel. Ze maken een praatje bij de kraam, en soms drinken ze daarna samen koffie."),
                ("A", "Dus de markt is meer dan alleen boodschappen doen."),
                ("B", "Voor sommige ouderen is het het enige uitje van de week."),
                ("A", "Goed."),
                ("B", "Ja."),
                ("A", "Wat zou je willen veranderen?"),
                ("B", "Meer jonge kraamhouders. Anders is er over tien jaar geen markt meer."),
            ],
        },
        "dev-drie-mannen-en-vrouw": {
            "voices": {"A": ("nl+f3", 52, 150), "B": ("mb-nl2", 50, 140), "C": ("nl+klatt", 48, 150)},
            "lines": [
                ("A", "Vandaag hebben we twee vaders te gast die een speelgroep begonnen."),
                ("B", "Goedemiddag."),
                ("C", "Dag."),
                ("A", "Hoe is dat begonnen?"),
                ("B", "We zagen elkaar elke ochtend bij de crèche, maar we praatten nooit."),
                ("C", "Tot het een keer hard regende en we samen onder het afdak stonden."),
                ("A", "En toen?"),
                ("C", "Toen spraken we af om op zondag met de kinderen naar de speeltuin te gaan."),
                ("B", "Nu komen er elke week tien vaders met hun kinderen."),
                ("A", "Wat levert het op?"),
                ("B", "Vriendschap. En de kinderen spelen ook door de week bij elkaar."),
                ("C", "Precies."),
            ],
        },
        "dev-twee-koor": {
            "voices": {"A": ("nl+klatt", 52, 150), "B": ("nl+m3", 46, 145)},
            "lines": [
                ("A", "Mijn gast van vandaag dirigeert een koor voor mannen uit de wijk."),
                ("B", "Goedenavond. Ik ben net terug van de repetitie."),
                ("A", "Hoe ging het?"),
                ("B", "Heel goed. We oefenen voor een optreden in de kerk, met kerst."),
                ("A", "Moet je kunnen zingen om mee te doen?"),
                ("B", "Helemaal niet. De meeste leden hadden nog nooit gezongen voordat ze kwamen."),
                ("A", "Wat trekt ze dan?"),
                ("B", "De gezelligheid. Na de repetitie blijven we altijd nog even hangen."),
                ("~", ""),
                ("B", "Dan wordt er meer gepraat dan gezongen."),
                ("A", "Dat geloof ik."),
                ("B", "Echt waar."),
                ("A", "Succes met het optreden."),
            ],
        },
        "dev-een-klatt": {
            "voices": {"A": ("nl+klatt", 47, 145)},
            "lines": [
                ("A", "In deze aflevering vertel ik over een buurtbus in de Achterhoek."),
                ("A", "Sinds de gewone bus niet meer rijdt, rijden vrijwilligers zelf een klein busje."),
                ("~", ""),
                ("A", "Ze brengen ouderen naar de dokter, de supermarkt en het station."),
                ("A", "Een rit kost een euro, en de chauffeurs kennen hun passagiers bij naam."),
                ("A", "Zo blijft het dorp bereikbaar, ook zonder eigen auto."),
            ],
        },
        "dev-een-lezing": {
            "voices": {"A": ("mb-nl3", 52, 150)},
            "lines": [
                ("A", "Welkom bij deze aflevering over een leesclub in een verzorgingshuis."),
                ("A", "Elke donderdagmiddag komen acht bewoners samen in de tuinkamer."),
                ("A", "Een vrijwilliger leest een kort verhaal voor, en daarna praten ze erover."),
                ("~", ""),
                ("A", "Vaak gaat het gesprek al snel over hun eigen jeugd."),
                ("A", "Over de boerderij waar ze opgroeiden, of over de eerste keer dat ze de zee zagen."),
            ],
        },
        "dev-een-wandeling": {
            "voices": {"A": ("mb-nl2", 52, 145)},
            "lines": [
                ("A", "Vandaag loop ik met je mee door de oude haven van Harlingen."),
                ("A", "Vroeger lagen hier de vissersboten dicht naast elkaar."),
                ("~", ""),
                ("A", "Nu liggen er vooral zeilschepen, en op de kade staan terrassen."),
                ("A", "Toch wonen er nog steeds families die al generaties lang van de zee leven."),
                ("~", ""),
                ("A", "Een van hen repareert netten in een schuurtje aan het water."),
                ("A", "Hij vertelt dat jongeren het vak weer willen leren."),
                ("A", "Dat had hij tien jaar geleden niet verwacht."),
                ("~", ""),
                ("A", "Aan het eind van de kade staat een bankje met uitzicht over het wad."),
                ("A", "Daar zitten 's avonds oude vissers en jonge gezinnen naast elkaar."),
            ],
        },
    },
    "eval": {
        "eval-twee-kernen": {
            "voices": {"A": ("mb-nl3", 50, 145), "B": ("mb-nl2", 50, 145)},
            "lines": [
                ("A", "Welkom bij de podcast over leefbaarheid in kleine dorpen."),
                ("B", "Dank je wel dat ik mag komen vertellen."),
                ("A", "Jij woont in een dorp met vierhonderd inwoners. Wat is daar bijzonder aan?"),
                ("B", "Iedereen kent elkaar, maar dat betekent niet dat iedereen elkaar helpt."),
                ("A", "Hoe bedoel je?"),
                ("B", "Mensen zijn trots en vragen niet snel om hulp. Daarom zijn we begonnen met een klussendienst."),
                ("A", "Ja?"),
                ("B", "Ja. Gepensioneerde mannen die een lamp ophangen of een kraan repareren."),
                ("~", ""),
                ("B", "En daarna drinken ze natuurlijk een kop koffie."),
                ("A", "Dat is het eigenlijke doel, denk ik."),
                ("B", "Precies."),
                ("A", "Dank je wel."),
            ],
        },
        "eval-twee-sport": {
            "voices": {"A": ("nl+klatt", 48, 150), "B": ("mb-nl3", 58, 150)},
            "lines": [
                ("A", "Vandaag gaat het over sport als manier om mensen te verbinden."),
                ("B", "Sport is een mooie ingang, want het is laagdrempelig."),
                ("A", "Waarom werkt het zo goed?"),
                ("B", "Je hoeft niet veel te praten. Je doet gewoon samen iets, en dan ontstaat het contact vanzelf."),
                ("A", "Mooi."),
                ("B", "Bij ons in de wijk wandelen ouderen elke woensdag een rondje door het park."),
                ("A", "Hoe lang is dat rondje?"),
                ("B", "Ongeveer drie kilometer. En onderweg stoppen ze bij het bankje bij de eendenvijver."),
                ("A", "Komen er ook nieuwe mensen bij?"),
                ("B", "Elke maand wel iemand. Vaak via de huisarts of de wijkverpleegkundige."),
                ("A", "Dat is een mooi einde. Bedankt."),
                ("B", "Graag gedaan."),
            ],
        },
        "eval-twee-mannen": {
            "voices": {"A": ("mb-nl2", 52, 140), "B": ("nl+klatt", 45, 150)},
            "lines": [
                ("A", "In deze aflevering spreek ik een huismeester van een groot flatgebouw."),
                ("B", "Klopt, ik werk al twintig jaar in dezelfde flat."),
                ("A", "Wat is er in die tijd veranderd?"),
                ("B", "Vroeger kende iedereen elkaar. Nu wonen er veel mensen kort, en die groeten elkaar niet."),
                ("A", "Wat doe je daaraan?"),
                ("B", "Ik stel nieuwe bewoners voor aan hun buren. Een simpele kennismaking helpt al veel."),
                ("A", "Echt?"),
                ("B", "Ja, echt."),
                ("A", "En als er ruzie is?"),
                ("B", "Dan nodig ik beide buren uit voor een gesprek in de recreatieruimte."),
                ("~", ""),
                ("B", "Meestal valt het dan wel mee."),
                ("A", "Dank je wel voor je verhaal."),
            ],
        },
        "eval-twee-vrouwen": {
            "voices": {"A": ("mb-nl3", 40, 140), "B": ("nl+f3", 60, 155)},
            "lines": [
                ("A", "Goedemiddag. Mijn gast vandaag begon een maaltijdproject in Rotterdam."),
                ("B", "Dat klopt. Elke vrijdag koken we met vrijwilligers voor zestig mensen."),
                ("A", "Wie komen er eten?"),
                ("B", "Alleenstaande ouderen, gezinnen met weinig geld, en studenten."),
                ("A", "Een bonte mix dus."),
                ("B", "Zeker. En juist dat maakt het leuk."),
                ("A", "Kost het iets?"),
                ("B", "Drie euro, maar wie het niet kan betalen eet gratis mee."),
                ("A", "Hoe betalen jullie de boodschappen?"),
                ("B", "Met een subsidie van het wijkfonds, en met giften van de supermarkt om de hoek."),
                ("A", "Fijn. Dank je."),
            ],
        },
        "eval-drie-ronde-tafel": {
            "voices": {"A": ("mb-nl2", 48, 145), "B": ("mb-nl3", 52, 150), "C": ("nl+klatt", 55, 140)},
            "lines": [
                ("A", "Welkom bij een ronde tafel over eenzaamheid in de wijk."),
                ("B", "Fijn dat we hier samen over praten."),
                ("C", "Het is een onderwerp waar mensen zich vaak voor schamen."),
                ("A", "Hoe merk je dat iemand eenzaam is?"),
                ("B", "Soms aan kleine dingen. De gordijnen blijven dicht, of de post stapelt zich op."),
                ("C", "En mensen zeggen vaak dat het goed gaat, terwijl dat niet zo is."),
                ("A", "Wat kun je dan doen?"),
                ("C", "Gewoon aanbellen en vragen of iemand zin heeft in een kop koffie."),
                ("B", "Ja."),
                ("A", "Is dat genoeg?"),
                ("B", "Het is een begin. Daarna kun je iemand meenemen naar een activiteit in het buurthuis."),
                ("C", "Of naar de wandelgroep."),
                ("A", "Dank jullie wel."),
            ],
        },
        "eval-drie-jongeren": {
            "voices": {"A": ("nl+f3", 50, 150), "B": ("mb-nl2", 58, 155), "C": ("mb-nl3", 45, 145)},
            "lines": [
                ("A", "Vandaag praat ik met twee jongerenwerkers uit Arnhem."),
                ("B", "Hoi."),
                ("C", "Goedemiddag."),
                ("A", "Wat doen jullie op een gewone dag?"),
                ("B", "Ik loop veel op straat en praat met jongeren op het plein."),
                ("C", "En ik zit meer in het jongerencentrum, waar ze huiswerk kunnen maken."),
                ("A", "Wat vinden jongeren belangrijk?"),
                ("B", "Dat je ze serieus neemt, en dat je doet wat je belooft."),
                ("C", "Precies. Als je een keer niet komt opdagen, ben je ze kwijt."),
                ("A", "Hebben jullie een mooi voorbeeld?"),
                ("C", "Een groep meiden organiseert nu zelf een filmavond voor de hele buurt."),
                ("B", "Met popcorn."),
                ("A", "Geweldig. Dank jullie wel."),
            ],
        },
        "eval-een-monoloog": {
            "voices": {"A": ("mb-nl3", 48, 145)},
            "lines": [
                ("A", "Deze aflevering gaat over de buurtapp in een nieuwbouwwijk."),
                ("A", "Toen de eerste bewoners er kwamen wonen, kende niemand elkaar."),
                ("~", ""),
                ("A", "Een van hen begon een groepsapp voor de straat, en binnen een week zat iedereen erin."),
                ("A", "Eerst ging het over pakketjes en over de vuilnisbakken."),
                ("A", "Later ontstond er een barbecue, een oppasclub en een boekenruil."),
            ],
        },
    },
    "eval2": {
        "eval2-twee-repaircafe": {
            "voices": {"A": ("mb-nl2", 43, 155), "B": ("nl+klatt", 58, 145)},
            "lines": [
                ("A", "Vandaag ben ik in een repair café, in het zaaltje achter de kerk."),
                ("B", "Kom binnen. Je bent precies op tijd voor de drukte."),
                ("A", "Wat nemen mensen zoal mee?"),
                ("B", "Broodroosters, lampen en kapotte broeken. Gisteren zelfs een grasmaaier."),
                ("A", "En lukt het meestal?"),
                ("B", "Bij ongeveer zeven van de tien spullen wel."),
                ("A", "Dat is veel."),
                ("B", "Ja."),
                ("A", "Wie zijn de reparateurs?"),
                ("B", "Vooral gepensioneerde monteurs en een paar naaisters. Sinds kort ook een student."),
                ("~", ""),
                ("B", "Hij is de enige die telefoons durft open te maken."),
                ("A", "Wat kost een reparatie?"),
                ("B", "Niets. Er staat een pot voor een vrijwillige bijdrage, en daarvan kopen we nieuwe onderdelen."),
                ("A", "Mooi. Bedankt, en veel succes vanmiddag."),
            ],
        },
        "eval2-twee-voedselbank": {
            "voices": {"A": ("nl+m3", 42, 150), "B": ("mb-nl2", 54, 150)},
            "lines": [
                ("A", "Mijn gast is coördinator van de voedselbank in Deventer."),
                ("B", "Goedemorgen. We zitten hier tussen de kratten, dus het klinkt wat rommelig."),
                ("A", "Hoeveel gezinnen krijgen een pakket?"),
                ("B", "Zo'n honderdtwintig, en dat aantal stijgt elke maand."),
                ("A", "Waardoor komt dat?"),
                ("B", "De vaste lasten zijn hoger geworden. Ook mensen met een baan kloppen nu bij ons aan."),
                ("A", "Dat had ik niet gedacht."),
                ("B", "Nee, veel mensen schrikken daarvan."),
                ("A", "Hoe komen jullie aan het eten?"),
                ("B", "Supermarkten geven wat bijna over de datum is, en boeren brengen groente die te lelijk is voor de winkel."),
                ("A", "Oké."),
                ("B", "En twee keer per jaar houden we een inzamelactie bij de supermarkt."),
                ("A", "Wat kunnen luisteraars doen?"),
                ("B", "Kom een ochtend helpen met inpakken. We zoeken vooral mensen die op donderdag kunnen."),
            ],
        },
        "eval2-twee-voetbalclub": {
            "voices": {"A": ("nl+klatt", 44, 155), "B": ("nl+m3", 55, 145)},
            "lines": [
                ("A", "We staan langs het veld van een kleine voetbalclub in Amsterdam-Noord."),
                ("B", "Welkom. De jongste spelers zijn net begonnen met hun training."),
                ("A", "Hoe oud zijn ze?"),
                ("B", "Tussen de zes en de negen. Sommigen kunnen nog nauwelijks een bal recht schieten."),
                ("A", "Maar ze hebben wel plezier."),
                ("B", "Dat is het belangrijkste. Winnen komt later wel."),
                ("A", "Wie geven de trainingen?"),
                ("B", "Ouders, en een paar oudere jeugdspelers die zo hun trainersdiploma halen."),
                ("A", "Echt?"),
                ("B", "Ja. Ze leren leidinggeven, en de kleintjes kijken enorm tegen ze op."),
                ("A", "Wat kost het lidmaatschap?"),
                ("B", "Voor gezinnen met weinig geld betaalt het jeugdfonds de contributie."),
                ("~", ""),
                ("B", "Zo hoeft geen kind aan de kant te blijven staan."),
                ("A", "Mooi gezegd."),
            ],
        },
        "eval2-twee-taalcafe": {
            "voices": {"A": ("mb-nl3", 60, 145), "B": ("nl+f3", 47, 140)},
            "lines": [
                ("A", "In deze aflevering bezoek ik het taalcafé in de bibliotheek van Almere."),
                ("B", "Hallo. Het is vanavond lekker vol."),
                ("A", "Hoe werkt zo'n taalcafé?"),
                ("B", "Mensen die Nederlands leren, praten in kleine groepjes met vrijwilligers. Er zijn geen cijfers."),
                ("A", "Waar praten jullie over?"),
                ("B", "Over alles. Het weer, het werk, de kinderen, en hoe je een afspraak bij de tandarts maakt."),
                ("A", "Heel praktisch dus."),
                ("B", "Precies."),
                ("A", "Zijn de vrijwilligers allemaal docent geweest?"),
                ("B", "Bijna niemand. Je hoeft alleen geduld te hebben en goed te kunnen luisteren."),
                ("A", "En wat zeggen de deelnemers?"),
                ("B", "Dat ze hier durven te oefenen, omdat niemand om een fout lacht."),
                ("A", "Dank je, en een fijne avond."),
            ],
        },
        "eval2-twee-ouderenbezoek": {
            "voices": {"A": ("mb-nl3", 46, 155), "B": ("mb-nl2", 60, 145)},
            "lines": [
                ("A", "Vandaag spreek ik een vrijwilliger die elke week bij ouderen op bezoek gaat."),
                ("B", "Dag. Ik kom net van mevrouw De Vries, ze is drieënnegentig."),
                ("A", "Wat doen jullie samen?"),
                ("B", "Meestal drinken we thee en kijken we naar oude foto's. Soms doen we een spelletje."),
                ("A", "Wie wint er?"),
                ("B", "Zij, bijna altijd."),
                ("A", "Hoe ben je dit werk gaan doen?"),
                ("B", "Na mijn pensioen had ik opeens veel tijd. Een buurvrouw vertelde me over de bezoekdienst van de kerk."),
                ("~", ""),
                ("B", "Ik dacht dat ik het een paar maanden zou doen, en nu is het al vier jaar."),
                ("A", "Wat heb je er zelf aan?"),
                ("B", "Meer dan je zou denken. Ik hoor de mooiste verhalen over vroeger, over de oorlog en over de wederopbouw."),
                ("A", "Bijzonder."),
                ("B", "Ja, heel bijzonder."),
                ("A", "Bedankt dat je even tijd had."),
            ],
        },
        "eval2-twee-buurtbudget": {
            "voices": {"A": ("nl+f3", 58, 145), "B": ("nl+klatt", 51, 140)},
            "lines": [
                ("A", "Welkom. Vandaag gaat het over het buurtbudget in Overvecht."),
                ("B", "Dank je. Ik zit in de commissie die de plannen bekijkt."),
                ("A", "Hoeveel geld is er te verdelen?"),
                ("B", "Dit jaar vijftigduizend euro. Elke bewoner mag een idee insturen, en de wijk stemt."),
                ("A", "Wat voor ideeën komen er binnen?"),
                ("B", "Van bloembakken en een pannaveldje tot fietsles voor vrouwen."),
                ("A", "En wat won er vorig jaar?"),
                ("B", "Een plan voor lantaarns langs het donkere pad bij het spoor."),
                ("A", "Logisch."),
                ("B", "Klopt."),
                ("A", "Zijn er ook teleurstellingen?"),
                ("B", "Zeker. Niet elk plan haalt genoeg stemmen."),
                ("~", ""),
                ("B", "Maar vaak dienen dezelfde mensen het jaar erna een beter plan in."),
                ("A", "Bedankt voor de uitleg."),
            ],
        },
        "eval2-drie-buurttuin": {
            "voices": {"A": ("mb-nl2", 47, 150), "B": ("nl+klatt", 53, 155), "C": ("mb-nl3", 57, 140)},
            "lines": [
                ("A", "Ik sta met twee tuinders in de gemeenschappelijke tuin achter het station."),
                ("B", "Goedemorgen."),
                ("C", "Welkom in onze tuin."),
                ("A", "Wat was dit vroeger?"),
                ("B", "Een parkeerterrein dat niemand meer gebruikte. Er lag overal glas."),
                ("C", "We hebben eerst een jaar lang stenen uit de grond gehaald, met de hele buurt."),
                ("A", "Wie heeft hier een stukje grond?"),
                ("C", "Zo'n dertig huishoudens, en ook de basisschool en het asielzoekerscentrum."),
                ("B", "Ja."),
                ("A", "Wat groeit er het best?"),
                ("B", "Aardappelen en courgettes. Van de courgettes hebben we in augustus eigenlijk veel te veel."),
                ("C", "Die delen we dan uit aan de buren in de flat ernaast."),
                ("A", "Handig. Bedankt, en een goede oogst gewenst."),
            ],
        },
        "eval2-drie-bibliotheekbus": {
            "voices": {"A": ("nl+m3", 48, 140), "B": ("nl+f3", 62, 150), "C": ("mb-nl2", 41, 145)},
            "lines": [
                ("A", "Vandaag rijden we mee met de bibliotheekbus door de dorpen van Drenthe."),
                ("B", "Goedemorgen. We staan nu op het plein van een dorp zonder winkel."),
                ("C", "En ik ben de chauffeur. Ik rijd deze route al elf jaar."),
                ("A", "Wie komen er naar de bus?"),
                ("B", "Moeders met kleine kinderen, en veel ouderen die niet meer zelf naar de stad kunnen."),
                ("C", "Sommigen staan al te wachten voordat ik de motor heb uitgezet."),
                ("A", "Echt waar?"),
                ("C", "Ja."),
                ("A", "Lenen ze alleen boeken?"),
                ("B", "Nee, we helpen ook met formulieren van de gemeente en met de bankapp op de telefoon."),
                ("C", "En ik hoor ondertussen al het nieuws uit het dorp."),
                ("A", "Wat gebeurt er als de bus een keer niet komt?"),
                ("B", "Dan bellen ze ons op. Ze missen het praatje nog meer dan de boeken."),
                ("A", "Bedankt dat we mee mochten rijden."),
            ],
        },
        "eval2-drie-speelstraat": {
            "voices": {"A": ("nl+klatt", 40, 150), "B": ("mb-nl3", 53, 155), "C": ("nl+m3", 60, 150)},
            "lines": [
                ("A", "Aan tafel zitten twee buren die hun straat één middag per week autovrij maken."),
                ("B", "Hallo."),
                ("C", "Goedemiddag allemaal."),
                ("A", "Hoe kwamen jullie op dat idee?"),
                ("B", "Onze kinderen konden nergens veilig buitenspelen. Er reden de hele dag auto's door de straat."),
                ("C", "Dus hebben we bij de gemeente een vergunning aangevraagd voor een speelstraat."),
                ("A", "Was iedereen het daarmee eens?"),
                ("C", "In het begin niet. Een paar bewoners waren bang dat ze hun auto niet meer kwijt konden."),
                ("B", "Maar nu zetten juist zij de hekken neer."),
                ("A", "Grappig."),
                ("C", "Ja, echt."),
                ("A", "Wat gebeurt er op zo'n middag?"),
                ("B", "De kinderen stoepkrijten en voetballen, en de ouders zetten stoelen op de stoep."),
                ("C", "Je leert je buren kennen zonder dat je er moeite voor hoeft te doen."),
                ("A", "Bedankt allebei."),
            ],
        },
        "eval2-een-buurtkoelkast": {
            "voices": {"A": ("mb-nl2", 57, 140)},
            "lines": [
                ("A", "In deze aflevering vertel ik over een buurtkoelkast in Nijmegen."),
                ("A", "Hij staat in een houten huisje naast de ingang van de moskee."),
                ("A", "Iedereen mag er eten in zetten, en iedereen mag er eten uit halen."),
                ("~", ""),
                ("A", "Een bakker brengt elke avond het brood dat hij niet heeft verkocht."),
                ("A", "Buren zetten er soep in, of een bak rijst die over is van het avondeten."),
                ("A", "Twee vrijwilligers controleren elke dag of alles nog goed is."),
                ("~", ""),
                ("A", "Wat over de datum is, gaat eruit. Zo blijft de koelkast schoon en veilig."),
                ("A", "Volgens de vrijwilligers wordt er zo elke week meer dan honderd kilo eten gered."),
                ("A", "En wie iets komt brengen, blijft vaak even staan voor een praatje."),
            ],
        },
        "eval2-een-zwerfafval": {
            "voices": {"A": ("nl+klatt", 43, 150)},
            "lines": [
                ("A", "Deze keer ga ik mee met een groep die zwerfafval opruimt in Schiedam."),
                ("A", "Elke eerste zaterdag van de maand verzamelen ze om negen uur bij de kinderboerderij."),
                ("A", "Iedereen krijgt een grijper, handschoenen en een oranje vuilniszak."),
                ("~", ""),
                ("A", "Daarna lopen ze in tweetallen langs de singels en door het park."),
                ("A", "Ze vinden vooral blikjes, sigarettenpeuken en plastic zakjes."),
                ("A", "Maar soms ook een winkelwagen, of een fiets die al jaren in het water lag."),
                ("~", ""),
                ("A", "De groep begon met drie buren die zich ergerden aan de rommel bij de speeltuin."),
                ("A", "Inmiddels lopen er elke keer zo'n twintig mensen mee, jong en oud."),
                ("A", "Ook een basisschool doet mee, met een hele klas."),
                ("~", ""),
                ("A", "Na afloop staat er koffie en ranja klaar in de kantine van de kinderboerderij."),
                ("A", "Volgens de deelnemers is de buurt echt schoner geworden, en gooien mensen minder snel iets op straat."),
            ],
        },
    },
}

PAUSES = (0.12, 0.2, 0.3, 0.45, 0.6, 0.8, 1.0)  # between turns, seconds
LONG_PAUSES = (1.2, 1.4, 1.6)  # within a turn ("~")


def run(*cmd: str | Path) -> None:
    subprocess.run([str(c) for c in cmd], check=True, capture_output=True)


def speak(text: str, voice: Voice, work: Path) -> np.ndarray:
    """Synthesise `text` as 16 kHz mono float32, leading and trailing silence trimmed."""
    name, pitch, speed = voice
    raw, wav = work / "raw.wav", work / "utterance.wav"
    run("espeak-ng", "-v", name, "-p", str(pitch), "-s", str(speed), "-w", raw, text)
    run("sox", raw, "-r", str(RATE), "-c", "1", "-b", "16", wav)
    samples = np.frombuffer(wav.read_bytes()[44:], np.int16).astype(np.float32) / 32768
    return _trim(samples)


def _trim(samples: np.ndarray, frame: int = 160, threshold_db: float = -45.0) -> np.ndarray:
    frames = samples[: len(samples) // frame * frame].reshape(-1, frame)
    level = 20 * np.log10(np.sqrt((frames**2).mean(axis=1)) + 1e-9)
    loud = np.flatnonzero(level > threshold_db)
    if loud.size == 0:
        raise ValueError("the voice produced silence")
    return samples[loud[0] * frame : (loud[-1] + 1) * frame]


def conversation(spec: dict, rng: random.Random, work: Path) -> tuple[np.ndarray, list[dict]]:
    """The conversation's samples and its reference turns (speaker letter, start, end, text)."""
    pieces: list[np.ndarray] = [np.zeros(int(0.5 * RATE), np.float32)]
    clock = 0.5
    turns: list[dict] = []
    lines = spec["lines"]
    for index, (speaker, text) in enumerate(lines):
        if speaker == "~":
            continue
        samples = speak(text, spec["voices"][speaker], work)
        turns.append({"speaker": speaker, "start": round(clock, 3),
                      "end": round(clock + len(samples) / RATE, 3), "text": text})
        pieces.append(samples)
        clock += len(samples) / RATE
        following = lines[index + 1][0] if index + 1 < len(lines) else None
        pause = (rng.choice(LONG_PAUSES) if following == "~" else
                 0.5 if following is None else rng.choice(PAUSES))
        pieces.append(np.zeros(int(round(pause * RATE)), np.float32))
        clock += len(pieces[-1]) / RATE
    audio = np.concatenate(pieces)
    audio += np.random.default_rng(rng.randrange(2**32)).normal(0, 10 ** (-60 / 20), audio.size)
    return audio.astype(np.float32), turns


def write_opus(samples: np.ndarray, path: Path, work: Path) -> None:
    pcm = work / "conversation.s16"
    pcm.write_bytes((np.clip(samples, -1, 1) * 32767).astype(np.int16).tobytes())
    run("ffmpeg", "-y", "-f", "s16le", "-ar", str(RATE), "-ac", "1", "-i", pcm,
        "-c:a", "libopus", "-b:a", OPUS_BITRATE, "-map_metadata", "-1", path)


def main(names: list[str]) -> None:
    """Write every conversation, or only those named (the others' files are left alone:
    ffmpeg's Opus output is not byte-identical from run to run)."""
    unknown = set(names) - {name for split in CONVERSATIONS.values() for name in split}
    if unknown:
        raise SystemExit(f"no such conversation: {', '.join(sorted(unknown))}")
    for split, conversations in CONVERSATIONS.items():
        if names and not set(names) & set(conversations):
            continue  # nothing named in this set: leave its folder and reference.json alone
        folder = HERE / split
        folder.mkdir(exist_ok=True)
        listing = folder / "reference.json"
        kept = json.loads(listing.read_text(encoding="utf-8")) if names and listing.exists() else {}
        reference: dict[str, dict] = {}
        for name, spec in conversations.items():
            if names and name not in names:
                if f"{name}.opus" in kept:
                    reference[f"{name}.opus"] = kept[f"{name}.opus"]
                continue
            rng = random.Random(name)
            with tempfile.TemporaryDirectory() as tmp:
                samples, turns = conversation(spec, rng, Path(tmp))
                write_opus(samples, folder / f"{name}.opus", Path(tmp))
            reference[f"{name}.opus"] = {
                "voices": {k: list(v) for k, v in spec["voices"].items()},
                "duration": round(len(samples) / RATE, 3),
                "turns": turns,
            }
        listing.write_text(json.dumps(reference, ensure_ascii=False, indent=1) + "\n",
                           encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
